import { describe, expect, it } from 'vitest';
import { MissingBinaryError, natsServerVersion, requireBinary, supportsSyncAlways } from './proc.js';

describe('requireBinary', () => {
  it('names the Debian package and the install command when a server binary is missing', () => {
    expect(() => requireBinary('mmm-no-such-server', 'mmm-pkg')).toThrow(MissingBinaryError);
    expect(() => requireBinary('mmm-no-such-server', 'mmm-pkg')).toThrow(/sudo apt-get install -y mmm-pkg/);
  });
  it('reads the nats-server version', () => {
    const [major] = natsServerVersion();
    expect(major).toBeGreaterThanOrEqual(2);
    expect(typeof supportsSyncAlways()).toBe('boolean');
  });
});
