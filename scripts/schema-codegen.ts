// Rewrites src/store/schema.gen.ts from the migrations (run: npm run db:codegen).
import { writeFileSync } from "node:fs";
import { openStore } from "../src/store/db.ts";
import { generateSchemaTypes } from "../src/store/schema-codegen.ts";

const store = openStore("sqlite::memory:");
await store.migrate();
const target = new URL("../src/store/schema.gen.ts", import.meta.url);
writeFileSync(target, await generateSchemaTypes(store.db));
await store.close();
console.log(`wrote ${target.pathname}`);
