/**
 * The application menu of our own: Electron's default menu offers Reload, Force Reload,
 * Toggle Developer Tools and links to Electron's website, none of which belongs in a custodian's
 * security tool (a reload would drop an open PIN dialog; DevTools are a console into the
 * renderer). Pure template, so it is unit-tested; main builds it with Menu.buildFromTemplate.
 * @module
 */
import type { ViewName } from '../../shared/ipc/model';

/** A menu item as this module builds it (the subset of Electron's template it uses). */
export type AppMenuItem =
  | { readonly type: 'separator' }
  | {
      readonly label?: string;
      readonly role?:
        | 'about'
        | 'hide'
        | 'hideOthers'
        | 'unhide'
        | 'quit'
        | 'close'
        | 'minimize'
        | 'undo'
        | 'redo'
        | 'cut'
        | 'copy'
        | 'paste'
        | 'selectAll'
        | 'appMenu'
        | 'editMenu'
        | 'windowMenu';
      readonly accelerator?: string;
      readonly click?: () => void;
      readonly submenu?: readonly AppMenuItem[];
    };

/** What the menu can do. */
export type AppMenuActions = {
  readonly open: (view: ViewName) => void;
  readonly quit: () => void;
};

/** The views reachable from the menu, in the sidebar's order. */
const VIEWS: readonly { view: ViewName; label: string; key: string }[] = [
  { view: 'ceremonies', label: 'Ceremonies', key: '1' },
  { view: 'card', label: 'Card and reader', key: '2' },
  { view: 'audit', label: 'Audit log', key: '3' },
  { view: 'trace', label: 'APDU trace', key: '4' },
  { view: 'settings', label: 'Settings', key: ',' },
];

/** The menu template for `platform`. */
export function appMenuTemplate(platform: string, actions: AppMenuActions): AppMenuItem[] {
  const mac = platform === 'darwin';
  const quit: AppMenuItem = {
    label: 'Quit Custodian',
    accelerator: 'CmdOrCtrl+Q',
    click: actions.quit,
  };
  const views: AppMenuItem = {
    label: 'View',
    submenu: VIEWS.map((v) => ({
      label: v.label,
      accelerator: `CmdOrCtrl+${v.key}`,
      click: () => actions.open(v.view),
    })),
  };
  // Edit keeps copy/paste working in text fields (the invitation, a decline reason).
  const edit: AppMenuItem = {
    label: 'Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  };
  const window: AppMenuItem = {
    label: 'Window',
    submenu: [{ role: 'minimize' }, { role: 'close' }],
  };
  if (mac) {
    return [
      {
        label: 'Custodian',
        submenu: [
          { role: 'about' },
          { type: 'separator' },
          { role: 'hide' },
          { role: 'hideOthers' },
          { role: 'unhide' },
          { type: 'separator' },
          quit,
        ],
      },
      edit,
      views,
      window,
    ];
  }
  return [
    { label: 'File', submenu: [{ role: 'close' }, { type: 'separator' }, quit] },
    edit,
    views,
    window,
  ];
}
