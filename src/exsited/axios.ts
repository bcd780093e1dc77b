/**
 * axios, loaded without touching Node's lazy web globals (web-globals-hidden.ts says why). The order of these
 * three imports is the point: an ES module's imports are evaluated in the order they are written.
 */
import './web-globals-hidden.js';
import axios from 'axios';
import './web-globals-restored.js';

export default axios;
