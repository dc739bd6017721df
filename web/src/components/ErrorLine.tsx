import type { CombinedError } from 'urql';
import { describeError } from '../lib/errors';

/**
 * The error of an action, as a sentence (announced: role alert); nothing
 * when there is none. `what` names the entity acted on ("the payment").
 */
export function ErrorLine({ error, what, testId = 'action-error' }: { error?: CombinedError | null; what?: string; testId?: string }) {
  if (!error) return null;
  return (
    <p role="alert" className="error" data-testid={testId}>
      {describeError(error, what)}
    </p>
  );
}
