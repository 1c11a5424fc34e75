'use client';

import { useActionState, useEffect, useRef, type ReactNode } from 'react';
import type { ActionState } from '../lib/action-state.ts';

type Action = (state: ActionState, form: FormData) => Promise<ActionState>;

export interface ActionFormProps {
  action: Action;
  csrf: string;
  hidden?: Record<string, string>;
  submitLabel: string;
  pendingLabel?: string;
  variant?: 'primary' | 'secondary' | 'danger';
  /** Ask before sending: the fields (children) then sit in the confirmation dialog. */
  confirm?: { title: string; body: ReactNode; confirmLabel?: string };
  /** Rendered under the form after a successful answer (e.g. credentials shown once). */
  onSuccess?: (state: NonNullable<ActionState>) => ReactNode;
  className?: string;
  name?: string;
  children?: ReactNode;
}

const Hidden = ({ csrf, hidden }: { csrf: string; hidden?: Record<string, string> }) => (
  <>
    <input type="hidden" name="csrf" value={csrf} />
    {Object.entries(hidden ?? {}).map(([k, v]) => (
      <input key={k} type="hidden" name={k} value={v} />
    ))}
  </>
);

const Message = ({ state }: { state: ActionState }) =>
  state ? (
    <p className={state.ok ? 'form-message ok' : 'form-message error'} role={state.ok ? 'status' : 'alert'} data-testid="form-message">
      {state.message}
    </p>
  ) : null;

/**
 * A form that sends one command through a server action, with its CSRF token, a pending state,
 * the answer's message and, when asked, a confirmation dialog first.
 */
export function ActionForm(props: ActionFormProps) {
  const [state, formAction, pending] = useActionState(props.action, null);
  const dialog = useRef<HTMLDialogElement>(null);
  const variant = props.variant ?? 'primary';
  const label = pending ? (props.pendingLabel ?? `${props.submitLabel}…`) : props.submitLabel;

  useEffect(() => {
    if (state?.ok) dialog.current?.close();
  }, [state]);

  if (!props.confirm) {
    return (
      <form action={formAction} className={props.className ?? 'action-form'} data-form={props.name}>
        <Hidden csrf={props.csrf} hidden={props.hidden} />
        {props.children}
        <div className="form-actions">
          <button type="submit" className={`button ${variant}`} disabled={pending}>
            {label}
          </button>
          <Message state={state} />
        </div>
        {state?.ok && props.onSuccess ? props.onSuccess(state) : null}
      </form>
    );
  }

  return (
    <div className={props.className ?? 'action-confirm'} data-form={props.name}>
      <button type="button" className={`button ${variant}`} onClick={() => dialog.current?.showModal()} disabled={pending}>
        {label}
      </button>
      <Message state={state} />
      <dialog ref={dialog} className="dialog" aria-labelledby={`${props.name ?? 'confirm'}-title`}>
        <form action={formAction}>
          <Hidden csrf={props.csrf} hidden={props.hidden} />
          <h2 id={`${props.name ?? 'confirm'}-title`}>{props.confirm.title}</h2>
          <div className="dialog-body">{props.confirm.body}</div>
          {props.children}
          {state && !state.ok ? <Message state={state} /> : null}
          <div className="dialog-actions">
            <button type="button" className="button secondary" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
            <button type="submit" className={`button ${variant}`} disabled={pending} data-testid="confirm">
              {pending ? (props.pendingLabel ?? 'Working…') : (props.confirm.confirmLabel ?? props.submitLabel)}
            </button>
          </div>
        </form>
      </dialog>
    </div>
  );
}
