import type { CombinedError } from 'urql';

// Human text for each extensions.code the API uses (see schema.graphqls).
const messages: Record<string, string> = {
  BAD_USER_INPUT: 'Please check the form',
  NOT_FOUND: 'Not found in this organization',
  CONFLICT: 'Someone else changed it meanwhile; try again on the fresh state',
  UNAUTHENTICATED: 'Your sign-in is not valid any more; please sign in again',
  FORBIDDEN: 'You may not do that',
  INSUFFICIENT_FUNDS: 'Not enough money in the account',
  ACCOUNT_CLOSED: 'The account is closed',
  NON_ZERO_BALANCE: 'Only an account with a zero balance can be closed',
  INVALID_STATE_TRANSITION: 'It is not in a state that allows this',
  SKU_TAKEN: 'Another product of your catalog has this SKU already',
  OUT_OF_STOCK: 'Not enough units in stock',
  ALREADY_RESERVED: 'The stock is already reserved for this order',
  RATE_LIMITED: 'Too many requests from your organization; wait a moment and try again',
  OVERLOADED: 'The server is busy; try again in a moment',
  SHUTTING_DOWN: 'The server is restarting; try again in a moment',
  UNAVAILABLE: 'The live update stopped; it starts again on its own',
  INTERNAL: 'The server failed; please try again',
};

/** The code of an error (its first GraphQL error's extensions.code), or NETWORK. */
export function errorCode(err: CombinedError): string {
  if (err.networkError && err.graphQLErrors.length === 0) return 'NETWORK';
  const code = err.graphQLErrors[0]?.extensions?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/**
 * describeError turns an error into a sentence for people: the code's text,
 * then the server's message for input errors (it says which field). `what`
 * names the entity for the codes that are about its state ("the payment":
 * "The payment is not in a state that allows this").
 */
export function describeError(err: CombinedError, what?: string): string {
  const code = errorCode(err);
  if (code === 'NETWORK') return 'The server cannot be reached; check the connection and try again';
  let text = messages[code] ?? 'Something went wrong';
  if (what && code === 'INVALID_STATE_TRANSITION') text = text.replace(/^It/, what[0].toUpperCase() + what.slice(1));
  const detail = err.graphQLErrors[0]?.message;
  if (code === 'BAD_USER_INPUT' && detail) return `${text}: ${detail}`;
  return text;
}
