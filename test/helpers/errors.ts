import { expect } from 'vitest';
import { ReelforgeError } from '../../src/core/errors.js';

/** The ReelforgeError a promise rejects with; fails the test if it resolves or rejects with anything else. */
export async function caught(promise: Promise<unknown>): Promise<ReelforgeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ReelforgeError);
    return error as ReelforgeError;
  }
  throw new Error('expected a rejection');
}
