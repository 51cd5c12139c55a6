// Preloaded into every Node process of a benchmarked stack (NODE_OPTIONS=--import …; Node 20 refuses --cpu-prof
// there): samples the CPU through the inspector and writes a .cpuprofile into MMM_CPU_PROF_DIR when the process
// exits. The file name carries the pid and the `mmm` command, so each service's profile can be told apart.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.MMM_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  const name = process.argv
    .slice(2, 4)
    .map((a) => a.replace(/^.*\//, '').replace(/[^A-Za-z0-9_-]/g, '_'))
    .join('.');
  // The in-process session answers synchronously, so this works in the exit handler.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${name || 'node'}.${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
