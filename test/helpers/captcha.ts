import { solveChallenge } from "altcha-lib/v1";

/** Solves an ALTCHA challenge as the browser widget does, and encodes the payload it would post. */
export async function solveCaptcha(challenge: { algorithm: string; challenge: string; salt: string; signature: string; maxnumber: number }): Promise<string> {
  const solution = await solveChallenge(challenge.challenge, challenge.salt, challenge.algorithm, challenge.maxnumber).promise;
  if (!solution) throw new Error("captcha not solvable");
  return Buffer.from(
    JSON.stringify({ algorithm: challenge.algorithm, challenge: challenge.challenge, number: solution.number, salt: challenge.salt, signature: challenge.signature }),
  ).toString("base64");
}
