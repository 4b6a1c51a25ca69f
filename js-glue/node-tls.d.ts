// Types of js-glue/node-tls.js (Node only): mutual TLS through Node's TLS stack.
import type { HostCredentials, HostTls } from './qollective.js';

/** The host TLS factory for Qollective.load(source, { tls: nodeTls, WebSocket }): REST through
 *  node:https and WebSocket (the `ws` package) with a TLS context holding the client's
 *  certificate and key. */
export declare function nodeTls(credentials: HostCredentials): HostTls;
