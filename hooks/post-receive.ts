// post-receive: runs after the refs moved. For now it only runs the chained hook; the Slack
// notifications (DESIGN.md "Notifications") arrive here next. Its exit code cannot undo a push.
import { runHook } from './run-hook.js';

runHook('post-receive', import.meta.url, () => ({ lines: [], exitCode: 0 }));
