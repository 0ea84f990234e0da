import {
  App,
  ErrorCode,
  HTTPModuleFunctions,
  type ReceiverEvent,
  type ReceiverProcessEventErrorHandlerArgs,
} from '@slack/bolt';
import type { Logger } from '../../logger.js';

/**
 * Bolt's App, except that a request nothing acknowledged (an action, view or payload no listener
 * handles, a body Bolt cannot classify, a listener that failed before its ack) is acknowledged
 * when processing ends: Slack gets its 200 at once, not Bolt's 404 after 3 seconds (which Slack
 * shows the user as an error).
 */
export class AnsweringApp extends App {
  override async processEvent(event: ReceiverEvent): Promise<void> {
    let acked = false;
    const ack: ReceiverEvent['ack'] = (response) => {
      acked = true;
      return event.ack(response);
    };
    await super.processEvent({ ...event, ack });
    if (!acked) await ack();
  }
}

/**
 * A signed request Bolt itself fails on (a body of a shape it does not expect, e.g. a `null`
 * payload) is acknowledged with 200 and logged, never answered 500: Slack would retry it and, for
 * events, count it against the app. Failed authorization keeps Bolt's answer.
 */
export function processEventErrorHandler(log: Logger) {
  return async (args: ReceiverProcessEventErrorHandlerArgs): Promise<boolean> => {
    const { error, response } = args;
    const authorization = 'code' in error && error.code === ErrorCode.AuthorizationError;
    if (response.headersSent || authorization)
      return HTTPModuleFunctions.defaultProcessEventErrorHandler(args);
    log.warn({ err: error }, 'Slack request of an unexpected shape acknowledged and ignored');
    response.writeHead(200);
    response.end();
    return true;
  };
}
