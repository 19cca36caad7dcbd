export { canonical, encodeValue, decodeValue, encodePack, decodePack, formatVersion, packFormatVersion } from './codec.js';
