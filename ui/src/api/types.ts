// Types of the API's answers. The dashboard's own endpoints (timeline, stats) come from the generated schema; the older
// endpoints answer untyped JSON in the OpenAPI document, so their shapes are declared here from the server's view records.
import type { Schemas } from './client';

export type RunTimeline = Schemas['RunTimelineView'];
export type TimelineRow = Schemas['TimelineRow'];
export type TimelineSegment = Schemas['TimelineSegment'];
export type RunStats = Schemas['RunStatsView'];
export type RunJournal = Schemas['RunJournalView'];
export type JournalEvent = Schemas['JournalEventView'];
export type FlowEvent = Schemas['EventView'];
export type EventPage = Schemas['EventPageView'];
export type Automation = Schemas['AutomationView'];
export type AutomationTrigger = Schemas['AutomationTriggerView'];
export type AutomationAction = Schemas['AutomationActionView'];
export type AutomationFiring = Schemas['AutomationFiringView'];
export type FiringAction = Schemas['FiringActionView'];

export interface Failure {
  type: string;
  message: string;
  stackTrace?: string | null;
}

export interface Transition {
  index: number;
  from?: string | null;
  to: string;
  timestamp: string;
  message?: string | null;
  attempt: number;
}

export interface Run {
  id: string;
  flow: string;
  deployment?: string | null;
  pool: string;
  state: string;
  stateName: string;
  stateMessage?: string | null;
  stateTime: string;
  attempt: number;
  parameters?: unknown;
  result?: unknown;
  failure?: Failure | null;
  tags?: Record<string, string> | null;
  parentRunId?: string | null;
  createdAt: string;
  scheduledAt: string;
  startedAt?: string | null;
  endedAt?: string | null;
  cancelRequested: boolean;
  history?: Transition[] | null;
}

export interface RunPage {
  runs: Run[];
  continuationToken?: string | null;
}

export interface Schedule {
  id: string;
  cron?: string | null;
  timezone?: string | null;
  interval?: string | null;
  anchor?: string | null;
  active: boolean;
}

export interface Deployment {
  fullName: string;
  name: string;
  flow: string;
  pool: string;
  parameters?: Record<string, unknown> | null;
  description?: string | null;
  paused: boolean;
  schedules: Schedule[];
  nextRunAt?: string | null;
  tags?: Record<string, string> | null;
  entrypoint: { kind: string; command?: string };
}

export interface Occurrence {
  schedule: string;
  time: string;
  utc: string;
  utcOffset: string;
}

export interface Pool {
  name: string;
  type: string;
  concurrencyLimit?: number | null;
  paused: boolean;
  description?: string | null;
}

export interface LogLine {
  timestamp: string;
  level: string;
  message: string;
  callId: number;
  attempt: number;
}

export interface Artifact {
  key: string;
  type: string;
  description?: string | null;
  createdAt: string;
  data: unknown;
}

export interface Rejected {
  [k: string]: unknown;
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  format?: string;
  items?: JsonSchema;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
}
