import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';

/** A select of the sites in the user's scope; remembers the choice. */
export async function sitePicker(onChange: (siteId: string) => void): Promise<HTMLSelectElement> {
  const { sites } = await api<{ sites: Array<{ id: string; name: string }> }>('/api/sites');
  const saved = localStorage.getItem('site');
  const sel = h(
    'select',
    { id: 'site-picker', 'aria-label': t('selectSite') },
    ...sites.map((s) => h('option', { value: s.id, selected: s.id === saved }, `${s.name} (${s.id})`)),
  );
  sel.addEventListener('change', () => {
    localStorage.setItem('site', sel.value);
    onChange(sel.value);
  });
  return sel;
}
