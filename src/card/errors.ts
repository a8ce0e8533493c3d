/** The error of a card command: said to the user as it is, exit code 1. */
export class CardError extends Error {
  constructor(
    readonly reason: "not_signed_in" | "network" | "refused" | "server",
    message: string,
  ) {
    super(message);
    this.name = "CardError";
  }
}
