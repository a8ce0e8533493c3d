/**
 * The client id of the virtual card (`tessera card`) at every tenant that signs: built into the
 * server's provider (federation/oidc/clients.ts) and used by the desktop client (card/session.ts).
 */
export const VIRTUAL_CARD_CLIENT_ID = "tessera-card";
