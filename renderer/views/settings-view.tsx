/**
 * Settings: theme, start at login, notifications, keep running in the tray; and the
 * configured server.
 * @module
 */
import type { IpcError } from '../../shared/ipc/errors';
import type { ServerView, Settings } from '../../shared/ipc/model';
import { Badge, ErrorNotice, Fact, Panel } from '../components/common';

/** Settings view props. */
export type SettingsViewProps = {
  readonly settings: Settings;
  readonly servers: readonly ServerView[];
  readonly version: string;
  /** False: main could not create a system tray on this desktop. */
  readonly trayAvailable?: boolean | undefined;
  readonly saving: boolean;
  readonly error: IpcError | null;
  readonly onChange: (patch: Partial<Settings>) => void;
};

/** Reminder presets (minutes before expiry). */
const REMINDER_CHOICES = [
  { value: '10,2', label: '10 and 2 minutes before (default)' },
  { value: '30,10,2', label: '30, 10 and 2 minutes before' },
  { value: '5', label: '5 minutes before' },
  { value: '', label: 'No reminders' },
] as const;

/** The settings view. */
export function SettingsView(props: SettingsViewProps) {
  const s = props.settings;
  const toggle = (
    key: 'startAtLogin' | 'notifications' | 'closeToTray' | 'doNotDisturb' | 'sound',
    label: string,
    hint: string,
  ) => (
    <div className="setting">
      <input
        id={`setting-${key}`}
        type="checkbox"
        checked={s[key]}
        disabled={props.saving}
        onChange={(e) => props.onChange({ [key]: e.target.checked })}
      />
      <label htmlFor={`setting-${key}`}>
        {label}
        <span className="hint">{hint}</span>
      </label>
    </div>
  );
  return (
    <div className="view">
      <header className="view-header">
        <h1>Settings</h1>
      </header>
      {props.error === null ? null : <ErrorNotice error={props.error} />}
      <Panel title="Appearance">
        <fieldset className="radio-row">
          <legend>Theme</legend>
          {(['system', 'light', 'dark'] as const).map((t) => (
            <label key={t} className="radio">
              <input
                type="radio"
                name="theme"
                value={t}
                checked={s.theme === t}
                disabled={props.saving}
                onChange={() => props.onChange({ theme: t })}
              />
              {t === 'system' ? 'Same as the system' : t === 'light' ? 'Light' : 'Dark'}
            </label>
          ))}
        </fieldset>
      </Panel>
      <Panel title="Behaviour">
        {toggle('startAtLogin', 'Start at login', 'Custodian starts in the tray when you log in.')}
        {toggle(
          'notifications',
          'Notifications',
          'Tell me when a ceremony waits, is about to expire, ends, or was refused as suspicious.',
        )}
        {toggle(
          'doNotDisturb',
          'Do not disturb',
          'Only security alerts notify; everything else waits in the app.',
        )}
        {toggle('sound', 'Sound', 'Notifications play the system sound.')}
        <div className="setting-select">
          <label htmlFor="setting-reminders">Remind me before a request expires</label>
          <select
            id="setting-reminders"
            value={s.reminderMinutes.join(',')}
            disabled={props.saving}
            onChange={(e) =>
              props.onChange({
                reminderMinutes: e.target.value === '' ? [] : e.target.value.split(',').map(Number),
              })
            }
          >
            {REMINDER_CHOICES.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
            {REMINDER_CHOICES.some((c) => c.value === s.reminderMinutes.join(',')) ? null : (
              <option value={s.reminderMinutes.join(',')}>
                {s.reminderMinutes.join(', ')} minutes before
              </option>
            )}
          </select>
        </div>
        {toggle(
          'closeToTray',
          'Keep running in the tray',
          'Closing the window keeps Custodian listening.',
        )}
        {props.trayAvailable === false ? (
          <div className="notice notice-attention" id="no-tray-note">
            <p className="notice-title">No system tray on this desktop</p>
            <p>
              Custodian cannot show a tray icon here (on GNOME, the AppIndicator extension adds
              one). Closing the window minimizes it instead, so requests still reach you; quit from
              the menu.
            </p>
          </div>
        ) : null}
      </Panel>
      <Panel title="Management server">
        {props.servers.map((srv) => (
          <dl className="facts" key={srv.id}>
            <Fact term="Server">
              {srv.name} · <span className="mono">{srv.url}</span>
            </Fact>
            <Fact term="Status">
              <Badge
                tone={
                  srv.state === 'connected'
                    ? 'good'
                    : srv.state === 'error'
                      ? 'danger'
                      : 'attention'
                }
              >
                {srv.state === 'connected'
                  ? 'Connected'
                  : srv.state === 'connecting'
                    ? 'Connecting…'
                    : srv.state === 'offline'
                      ? 'Offline'
                      : 'Error'}
              </Badge>
            </Fact>
            <Fact term="You are">{srv.custodianName}</Fact>
          </dl>
        ))}
      </Panel>
      <p className="hint">Custodian {props.version}</p>
    </div>
  );
}
