// Tabs in the WAI-ARIA pattern: one tab stop for the whole list (the selected tab), arrow keys, Home and End move between
// tabs and select them, the panel is labelled by its tab and is itself focusable so Tab goes from the list into it.
import { useRef, type KeyboardEvent, type ReactNode } from 'react';

export function Tabs<T extends string>({ id, label, tabs, selected, onSelect, children }: {
  id: string;
  label: string;
  tabs: readonly T[];
  selected: T;
  onSelect: (tab: T) => void;
  children: ReactNode;
}) {
  const list = useRef<HTMLDivElement>(null);
  const title = (t: string) => t[0].toUpperCase() + t.slice(1);

  const onKeyDown = (e: KeyboardEvent<HTMLButtonElement>) => {
    const at = tabs.indexOf(selected);
    const to = e.key === 'ArrowRight' ? (at + 1) % tabs.length
      : e.key === 'ArrowLeft' ? (at - 1 + tabs.length) % tabs.length
      : e.key === 'Home' ? 0
      : e.key === 'End' ? tabs.length - 1
      : -1;
    if (to < 0) return;
    e.preventDefault();
    onSelect(tabs[to]);
    list.current?.querySelectorAll<HTMLButtonElement>('[role=tab]')[to]?.focus();
  };

  return (
    <>
      <div className="tabs" role="tablist" aria-label={label} ref={list}>
        {tabs.map((t) => (
          <button
            key={t}
            id={`${id}-tab-${t}`}
            role="tab"
            type="button"
            aria-selected={selected === t}
            aria-controls={`${id}-panel`}
            tabIndex={selected === t ? 0 : -1}
            onClick={() => onSelect(t)}
            onKeyDown={onKeyDown}
          >
            {title(t)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${id}-panel`} aria-labelledby={`${id}-tab-${selected}`} tabIndex={0} className="panel">
        {children}
      </div>
    </>
  );
}
