/**
 * Readers and the custodian card: genuine check with its anchor, PIN status and tries left,
 * the PKA key (docs/card-reference.md §6.2) or a way to create one, and the `.pka` export for the target's
 * administrator.
 * @module
 */
import { useState, type FormEvent } from 'react';
import type { IpcError } from '../../shared/ipc/errors';
import type { CardView as Card, ReaderView } from '../../shared/ipc/model';
import { Badge, ErrorNotice, Fact, Modal, Panel } from '../components/common';
import { chainText, pinText } from '../format';
import { PinField } from './pin-dialog';

/** Card view props. */
export type CardViewProps = {
  readonly readers: readonly ReaderView[];
  readonly reader: string | null;
  readonly card: Card | null;
  readonly busy: 'readers' | 'inspect' | 'create' | 'export' | null;
  readonly error: IpcError | null;
  readonly exported: string | null;
  readonly onRefresh: () => void;
  readonly onSelect: (reader: string) => void;
  readonly onCreateKey: (label: string, pin?: string) => Promise<boolean>;
  readonly onExport: () => void;
};

/** The card view. */
export function CardView(props: CardViewProps) {
  const [creating, setCreating] = useState(false);
  const card = props.card;
  return (
    <div className="view">
      <header className="view-header">
        <h1>Card and reader</h1>
        <button
          type="button"
          className="button"
          onClick={props.onRefresh}
          disabled={props.busy !== null}
        >
          {props.busy === 'readers' ? 'Looking for readers…' : 'Refresh'}
        </button>
      </header>
      {props.error === null ? null : <ErrorNotice error={props.error} onRetry={props.onRefresh} />}
      <Panel title="Readers">
        {props.readers.length === 0 ? (
          <p className="empty">No reader found. Connect your reader or Nitrokey HSM.</p>
        ) : (
          <ul className="readers" role="radiogroup" aria-label="Readers">
            {props.readers.map((r) => (
              <li key={r.name}>
                <label className={r.name === props.reader ? 'reader reader-selected' : 'reader'}>
                  <input
                    type="radio"
                    name="reader"
                    value={r.name}
                    checked={r.name === props.reader}
                    disabled={!r.cardPresent}
                    onChange={() => props.onSelect(r.name)}
                  />
                  <span className="reader-name">{r.name}</span>
                  <span className="reader-meta">
                    {r.cardPresent ? 'Card inserted' : 'No card'}
                    {r.pinPad ? ' · PIN pad' : ''}
                  </span>
                </label>
              </li>
            ))}
          </ul>
        )}
      </Panel>
      {card === null ? (
        props.busy === 'inspect' ? (
          <p className="empty">Reading the card…</p>
        ) : null
      ) : (
        <>
          <Panel title="Custodian card">
            <dl className="facts">
              <Fact term="Device">
                <span className="mono">{card.deviceId}</span>
              </Fact>
              <Fact term="Genuine check">
                <Badge tone={chainText(card.chain).tone}>{chainText(card.chain).text}</Badge>
                {card.chain.detail === undefined ? null : (
                  <p className="hint">{card.chain.detail}</p>
                )}
              </Fact>
              <Fact term="PIN">
                <Badge tone={pinText(card.pin).tone}>{pinText(card.pin).text}</Badge>
                {card.pinPad ? (
                  <span className="hint"> Entered on the reader's keypad.</span>
                ) : null}
              </Fact>
            </dl>
          </Panel>
          <Panel
            title="Custodian key"
            actions={
              card.pkaKey === null ? (
                <button
                  type="button"
                  className="button button-primary"
                  onClick={() => setCreating(true)}
                >
                  Create custodian key
                </button>
              ) : (
                <button
                  type="button"
                  className="button"
                  onClick={props.onExport}
                  disabled={props.busy !== null}
                >
                  {props.busy === 'export' ? 'Exporting…' : 'Export .pka file'}
                </button>
              )
            }
          >
            {card.pkaKey === null ? (
              <p className="empty">
                This card has no custodian key yet. Create one, then send the exported .pka file to
                the administrator of the target HSM.
              </p>
            ) : (
              <dl className="facts">
                <Fact term="Name at targets (CHR)">
                  <span className="mono">{card.pkaKey.chr}</span>
                </Fact>
                <Fact term="Label">{card.pkaKey.label}</Fact>
                <Fact term="Key">
                  {card.pkaKey.curve}, key id {card.pkaKey.keyId}
                </Fact>
              </dl>
            )}
            {props.exported === null ? null : (
              <p className="notice notice-good" role="status">
                Saved to <span className="mono">{props.exported}</span>
              </p>
            )}
          </Panel>
        </>
      )}
      {creating && card !== null ? (
        <CreateKeyDialog
          pinPad={card.pinPad}
          retries={card.pin.retries}
          busy={props.busy === 'create'}
          onCancel={() => setCreating(false)}
          onSubmit={(label, pin) => {
            void props.onCreateKey(label, pin).then((created) => {
              if (created) setCreating(false);
            });
          }}
        />
      ) : null}
    </div>
  );
}

function CreateKeyDialog(props: {
  pinPad: boolean;
  retries: number | undefined;
  busy: boolean;
  onCancel: () => void;
  onSubmit: (label: string, pin?: string) => void;
}) {
  const [label, setLabel] = useState('Custodian key');
  const [pin, setPin] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const given = pin;
    setPin('');
    props.onSubmit(label, props.pinPad ? undefined : given);
  };
  return (
    <Modal title="Create custodian key" onCancel={props.onCancel}>
      <form onSubmit={submit}>
        <p>
          A new brainpoolP256r1 key is generated inside your card. It never leaves the card and is
          used only for key ceremonies.
        </p>
        <label htmlFor="key-label">Label</label>
        <input
          id="key-label"
          value={label}
          maxLength={64}
          required
          onChange={(e) => setLabel(e.target.value)}
        />
        <PinField pinPad={props.pinPad} retries={props.retries} value={pin} onChange={setPin} />
        <div className="actions">
          <button type="button" className="button" onClick={props.onCancel} disabled={props.busy}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={props.busy}>
            {props.busy ? 'Creating key…' : 'Create key'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
