import { describe, expect, it } from 'vitest';
import { CombinedError } from 'urql';
import { GraphQLError } from 'graphql';
import { describeError, errorCode } from './errors';

const withCode = (code: string, message = 'm') =>
  new CombinedError({ graphQLErrors: [new GraphQLError(message, { extensions: { code } })] });

describe('describeError', () => {
  it('turns each code into human text', () => {
    expect(describeError(withCode('INSUFFICIENT_FUNDS'))).toBe('Not enough money in the account');
    expect(describeError(withCode('INVALID_STATE_TRANSITION'))).toBe('It is not in a state that allows this');
    expect(describeError(withCode('INVALID_STATE_TRANSITION'), 'the order')).toBe('The order is not in a state that allows this');
    expect(describeError(withCode('SKU_TAKEN'))).toMatch(/has this SKU already/);
    expect(describeError(withCode('OUT_OF_STOCK'))).toBe('Not enough units in stock');
    expect(describeError(withCode('CONFLICT'))).toMatch(/changed it meanwhile/);
  });
  it('keeps the server message of an input error (it names the field)', () => {
    expect(describeError(withCode('BAD_USER_INPUT', 'amount: not a decimal'))).toBe('Please check the form: amount: not a decimal');
  });
  it('says when the server cannot be reached', () => {
    const err = new CombinedError({ networkError: new Error('Failed to fetch') });
    expect(errorCode(err)).toBe('NETWORK');
    expect(describeError(err)).toMatch(/cannot be reached/);
  });
  it('has a fallback for unknown codes', () => {
    expect(describeError(withCode('SOMETHING_NEW'))).toBe('Something went wrong');
  });
});
