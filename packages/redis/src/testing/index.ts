/**
 * `@troupe/redis/testing`: throw-away Redis servers and Clusters for tests, and key listing and
 * deletion by `SCAN` pattern. Not for production paths: to delete what one store wrote, use
 * `store.destroy()`.
 */
export { RedisServer, freePort, type RedisServerOptions } from './redisServer.js';
export { RedisCluster, type RedisClusterOptions, type ClusterNodeInfo } from './redisCluster.js';
export { keysMatching, deleteKeysMatching } from './keys.js';
