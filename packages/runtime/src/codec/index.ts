export { canonical, canonicalInput, protoKeyPath, fingerprintBytes, encodeValue, decodeValue, encodePack, decodePack, formatVersion, packFormatVersion } from './codec.js';
