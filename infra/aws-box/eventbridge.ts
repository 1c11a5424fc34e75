import { randomUUID } from 'node:crypto';
import { ListRulesCommand, ListTargetsByRuleCommand, type EventBridgeClient, type Rule, type Target } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { compilePattern, type EventMatcher } from '../../events/bus/pattern/index.ts';
import { BOX_ACCOUNT, BOX_REGION, sqsQueueUrl } from './moto.ts';

// moto keeps EventBridge's control plane (buses, rules, targets) but cannot deliver to a Lambda
// target (its PutEvents fails when a rule targets one). This stand-in is EventBridge's data plane
// for the box: PutEvents is answered here; each entry is matched against the rules moto holds for
// its bus, with shiplog's own conformance-tested pattern engine, and delivered to each target:
// a Lambda target by an ASYNC invoke (Lambda's own retries and on-failure destination apply), an
// SQS target by SendMessage. Scheduled rules fire on their rate.

/** One entry of PutEvents as the SDK sends it. */
export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: string | number;
}

/** An event as EventBridge hands it to a target. */
export interface DeliveredEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

/** Options of {@link eventBridgeStandIn}. */
export interface EventBridgeStandInOptions {
  /** moto's EventBridge: where the rules and targets are read from. */
  events: EventBridgeClient;
  sqs: SQSClient;
  awsEndpoint: string;
  /** Lambda's async invoke (the Lambda stand-in). */
  invokeAsync: (functionArn: string, event: DeliveredEvent) => void;
  /** Scales schedule rates (`rate(5 minutes)` × 0.01 = every 3 s); default 1. */
  scheduleScale?: number;
  log?: (line: string) => void;
  /** Every event put, after it was accepted (what the box's `events` log shows). */
  onEvent?: (event: DeliveredEvent, bus: string) => void;
}

interface LoadedRule {
  rule: Rule;
  matcher?: EventMatcher;
  targets: Target[];
}

const busNameOf = (nameOrArn: string | undefined): string => (nameOrArn ? nameOrArn.split('/').pop()! : 'default');

/**
 * Parses `rate(n unit)`; `cron(...)` is not run by the box (said in docs/aws-box.md).
 *
 * @example
 * rateMs('rate(5 minutes)'); // 300000
 */
export const rateMs = (expression: string): number | undefined => {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!m) return undefined;
  const unit = m[2]!.startsWith('minute') ? 60_000 : m[2]!.startsWith('hour') ? 3_600_000 : 86_400_000;
  return Number(m[1]) * unit;
};

/**
 * EventBridge's delivery for the box.
 *
 * @example
 * const bridge = eventBridgeStandIn({ events: motoEvents, sqs: motoSqs, awsEndpoint, invokeAsync: lambda.invokeAsync });
 * await bridge.putEvents([{ Source: 'shiplog.ingest', DetailType: 'DeploymentRequested', Detail: '{…}', EventBusName: 'shiplog-box' }]);
 */
export const eventBridgeStandIn = (opts: EventBridgeStandInOptions) => {
  const log = opts.log ?? (() => {});
  const cache = new Map<string, Promise<LoadedRule[]>>();
  const timers: NodeJS.Timeout[] = [];

  const load = async (bus: string): Promise<LoadedRule[]> => {
    const rules: Rule[] = [];
    let NextToken: string | undefined;
    do {
      const page = await opts.events.send(new ListRulesCommand({ EventBusName: bus, NextToken }));
      rules.push(...(page.Rules ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return Promise.all(
      rules
        .filter((r) => r.State !== 'DISABLED')
        .map(async (rule) => ({
          rule,
          ...(rule.EventPattern ? { matcher: compilePattern(rule.EventPattern) } : {}),
          targets: (await opts.events.send(new ListTargetsByRuleCommand({ Rule: rule.Name, EventBusName: bus }))).Targets ?? [],
        })),
    );
  };
  const rulesOf = (bus: string): Promise<LoadedRule[]> => {
    let loaded = cache.get(bus);
    if (!loaded) {
      loaded = load(bus);
      loaded.catch(() => cache.delete(bus));
      cache.set(bus, loaded);
    }
    return loaded;
  };

  const deliver = async (target: Target, event: DeliveredEvent, rule: string): Promise<void> => {
    const payload = target.Input ? JSON.parse(target.Input) : event;
    if (target.Arn?.startsWith('arn:aws:lambda:')) return opts.invokeAsync(target.Arn, payload as DeliveredEvent);
    const QueueUrl = sqsQueueUrl(target.Arn, opts.awsEndpoint);
    if (QueueUrl) {
      await opts.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(payload) }));
      return;
    }
    log(`eventbridge: rule ${rule} has a target the box cannot deliver to: ${target.Arn}`);
  };

  const dispatch = async (event: DeliveredEvent, bus: string): Promise<void> => {
    for (const { rule, matcher, targets } of await rulesOf(bus)) {
      if (!matcher?.(event)) continue;
      for (const target of targets) {
        await deliver(target, event, rule.Name ?? '?').catch((err: unknown) => log(`eventbridge: ${rule.Name} → ${target.Arn}: ${(err as Error).message}`));
      }
    }
  };

  /**
   * PutEvents: every valid entry gets an id and is delivered; an invalid one is reported in its
   * slot with EventBridge's error code, as AWS does.
   */
  const putEvents = async (entries: PutEventsEntry[]) => {
    const results = entries.map((e) => {
      let detail: unknown;
      try {
        detail = JSON.parse(e.Detail ?? '');
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      if (!e.Source || !e.DetailType) return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter(s) Source and DetailType must be specified.' };
      const time = e.Time === undefined ? new Date() : new Date(typeof e.Time === 'number' ? e.Time * 1000 : e.Time);
      const event: DeliveredEvent = {
        version: '0', id: randomUUID(), 'detail-type': e.DetailType, source: e.Source, account: BOX_ACCOUNT,
        time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'), region: BOX_REGION, resources: e.Resources ?? [], detail,
      };
      const bus = busNameOf(e.EventBusName);
      opts.onEvent?.(event, bus);
      void dispatch(event, bus).catch((err: unknown) => log(`eventbridge: ${(err as Error).message}`));
      return { EventId: event.id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  };

  /**
   * Runs the scheduled rules of `bus` (the default bus holds shiplog's) as EventBridge does: each
   * enabled rule with a `rate(...)` fires a "Scheduled Event" to its targets once per period, the
   * first a period after the box first sees it. The rules are read again after every change
   * (`invalidate`): a rule put later starts, a disabled or deleted one stops, targets are current.
   * Returns the scheduled rules running now.
   */
  const startSchedules = async (bus = 'default'): Promise<string[]> => {
    const due = new Map<string, number>();
    const scheduled = async () => (await rulesOf(bus)).flatMap((r) => {
      const ms = r.rule.ScheduleExpression ? rateMs(r.rule.ScheduleExpression) : undefined;
      return ms ? [{ ...r, periodMs: Math.max(250, ms * (opts.scheduleScale ?? 1)) }] : [];
    });
    const fire = (rule: Rule, targets: Target[]) => {
      const event: DeliveredEvent = {
        version: '0', id: randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events', account: BOX_ACCOUNT,
        time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), region: BOX_REGION, resources: [rule.Arn ?? ''], detail: {},
      };
      for (const target of targets) {
        void deliver(target, event, rule.Name ?? '?').catch((err: unknown) => log(`eventbridge: ${rule.Name} → ${target.Arn}: ${(err as Error).message}`));
      }
    };
    let ticking = false;
    const tick = async () => {
      if (ticking) return;
      ticking = true;
      try {
        const now = Date.now();
        const rules = await scheduled();
        const names = new Set(rules.map((r) => r.rule.Name ?? '?'));
        for (const name of due.keys()) if (!names.has(name)) due.delete(name);
        for (const { rule, targets, periodMs } of rules) {
          const name = rule.Name ?? '?';
          const next = due.get(name);
          if (next === undefined) due.set(name, now + periodMs);
          else if (now >= next) {
            due.set(name, Math.max(next + periodMs, now));
            fire(rule, targets);
          }
        }
      } catch (err) {
        log(`eventbridge: schedules of ${bus}: ${(err as Error).message}`);
      } finally {
        ticking = false;
      }
    };
    const running = await scheduled();
    await tick();
    const shortest = Math.min(1000, ...running.map((r) => r.periodMs));
    const timer = setInterval(() => void tick(), Math.max(50, Math.floor(shortest / 5)));
    timer.unref();
    timers.push(timer);
    return running.map((r) => r.rule.Name ?? '?');
  };

  return {
    putEvents,
    startSchedules,
    /** Forgets the rules read from moto (the endpoint calls it when a rule or target changes). */
    invalidate: () => cache.clear(),
    stop: () => {
      for (const t of timers.splice(0)) clearInterval(t);
    },
  };
};

/** The EventBridge stand-in. */
export type EventBridgeStandIn = ReturnType<typeof eventBridgeStandIn>;
