export { encodeValue, decodeValue, encodePack, decodePack, formatVersion } from './codec.js';
