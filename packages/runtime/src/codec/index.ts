export { canonical, canonicalInput, protoKeyPath, encodeValue, decodeValue, encodePack, decodePack, formatVersion, packFormatVersion } from './codec.js';
