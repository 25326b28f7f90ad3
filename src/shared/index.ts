// Code that several layers share (the stream, the relay and the browser client) and that pulls in
// nothing else: the browser client imports it without any server code.

export { changeSize } from "./change-size.ts";
export { EventQueue } from "./event-queue.ts";
export { turnNow } from "./turn-clock.ts";
