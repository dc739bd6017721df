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
  INVALID_STATE_TRANSITION: 'The payment is not in a state that allows this',
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
 * then the server's message for input errors (it says which field).
 */
export function describeError(err: CombinedError): string {
  const code = errorCode(err);
  if (code === 'NETWORK') return 'The server cannot be reached; check the connection and try again';
  const text = messages[code] ?? 'Something went wrong';
  const detail = err.graphQLErrors[0]?.message;
  if (code === 'BAD_USER_INPUT' && detail) return `${text}: ${detail}`;
  return text;
}
