export { Runtime, createRuntime, runtimeDefaults, type RuntimeOptions } from './runtime.js';
export type { Accepted, Rejected, CommandReply, ResolveReply, ActorView } from './replies.js';
export { Entity, type CommandEnvelope, type EntityEnvironment, type MergeStrategy } from './entity.js';
export { commandPack, type CommandPackInput } from './commandPack.js';
