import type { Log } from '../core/log.ts';
import type { UnsafeSettingName } from '../core/observer.ts';
import type { Config } from './load-config.ts';
import { unsafeSettings } from './unsafe-settings.ts';
import { unusedVariables } from './unused-variables.ts';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Start-up warnings about settings that are in force but weaken security, and about variables
 * that look like settings but do nothing. Returns the unsafe settings, for the start line and
 * the gauge.
 */
export function announceSettings(config: Config, env: Env, log: Log): UnsafeSettingName[] {
  const unsafe = unsafeSettings(config.elasticsearch);
  for (const { setting, hosts, message } of unsafe) log.warn({ setting, hosts }, message);
  const unused = unusedVariables(env);
  for (const { variable, nearest, key } of unused.unknown) {
    log.warn({ variable, nearest }, `unknown variable ${variable}: ignored (nearest setting: ${nearest}, key ${key})`);
  }
  if (unused.ignoredFluent.length > 0) {
    log.warn({ variables: unused.ignoredFluent }, 'Fluentd variables that have no effect in nodetail (no counterpart, or another variable of the same setting wins): ignored');
  }
  return unsafe.map((u) => u.setting);
}
