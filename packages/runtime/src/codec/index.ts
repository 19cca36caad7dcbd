export { canonical, canonicalInput, canonicalSized, protoKeyPath, fingerprintBytes, encodeValue, decodeValue, encodePack, decodePack, formatVersion, packFormatVersion } from './codec.js';
