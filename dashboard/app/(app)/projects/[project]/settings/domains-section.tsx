import { ActionForm } from '../../../../../components/action-form.tsx';
import { EmptyState, Section, When } from '../../../../../components/bits.tsx';
import { Chip } from '../../../../../components/status-badge.tsx';
import { addDomainAction, removeDomainAction } from '../../../../../lib/server/actions.ts';
import { context } from '../../../../../lib/server/context.ts';

const tone = { pending: 'neutral', validating: 'amber', issued: 'blue', active: 'green', failed: 'red' } as const;

export async function DomainsSection({ projectId, csrf }: { projectId: string; csrf: string }) {
  const domains = await context().models.listDomains(projectId);
  const hidden = { project: projectId };
  return (
    <Section title="Domains" description="Custom hosts for an alias. Each gets a certificate; while it waits for validation, create the DNS records shown.">
      {domains.length === 0 ? (
        <EmptyState title="No custom domains">The project is served at its own host. Add a domain to serve it at yours too.</EmptyState>
      ) : (
        <ul className="domain-list" data-testid="domains">
          {domains.map((d) => (
            <li key={d.host} className="panel domain">
              <div className="domain-head">
                <span className="mono strong">{d.host}</span>
                <Chip tone={tone[d.status]}>{d.status}</Chip>
                <span className="muted">
                  → {d.redirectTo ? `redirects to ${d.redirectTo}` : (d.alias ?? 'production')} · added <When iso={d.addedAt} />
                </span>
                <ActionForm action={removeDomainAction} csrf={csrf} hidden={{ ...hidden, host: d.host }} variant="danger" submitLabel="Remove" confirm={{ title: `Remove ${d.host}?`, body: <p>It stops serving this project.</p> }} />
              </div>
              {d.status === 'validating' && d.records.length ? (
                <div className="dns">
                  <p>Create these DNS records at your DNS provider:</p>
                  <div className="table-wrap">
                    <table className="table compact">
                      <thead>
                        <tr><th>Type</th><th>Name</th><th>Value</th><th>For</th></tr>
                      </thead>
                      <tbody>
                        {d.records.map((r) => (
                          <tr key={`${r.type}:${r.name}:${r.value}`}>
                            <td className="mono" data-label="Type">{r.type}</td>
                            <td className="mono" data-label="Name">{r.name}</td>
                            <td className="mono wrap" data-label="Value">{r.value}</td>
                            <td data-label="For">{r.purpose === 'certificate-validation' ? 'certificate' : 'routing'}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                </div>
              ) : null}
              {d.failure ? <p className="alert error">{d.failure.reason}{d.failure.detail ? `: ${d.failure.detail}` : ''}{d.failure.retryable ? ' (will retry)' : ''}</p> : null}
              {d.certificate?.notAfter ? <p className="muted small">Certificate by {d.certificate.issuer ?? d.certificate.provider}, valid until {d.certificate.notAfter.slice(0, 10)}</p> : null}
            </li>
          ))}
        </ul>
      )}
      <ActionForm action={addDomainAction} csrf={csrf} hidden={hidden} name="add-domain" submitLabel="Add domain" className="inline-form">
        <label className="label grow">
          Host
          <input name="host" required placeholder="www.example.com" autoComplete="off" spellCheck={false} />
        </label>
        <label className="label">
          Redirect to <span className="muted">(optional)</span>
          <input name="redirectTo" placeholder="example.com" autoComplete="off" spellCheck={false} />
        </label>
      </ActionForm>
    </Section>
  );
}
