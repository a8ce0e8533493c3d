// The SQLite checkpointer (db.ts): a worker thread with its own connection to the database that
// copies the write-ahead log back into the database file every `intervalMs`. A checkpoint writes
// pages and syncs the file; done by the connection that commits (SQLite's default), it stalls the
// event loop for milliseconds about every thousand pages written. PASSIVE: it never waits for, nor
// blocks, the server's readers and writers. Plain JavaScript: it needs nothing but better-sqlite3.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const db = new Database(workerData.file, { fileMustExist: true });
db.pragma("busy_timeout = 1000");
const checkpoint = () => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (err) {
    parentPort.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on("message", (message) => {
  if (message !== "stop") return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
