// JSON shown formatted (two-space indent), as text: React escapes it, so a payload cannot inject markup.
export function Json({ value, label }: { value: unknown; label?: string }) {
  if (value === undefined || value === null) return <p className="muted small">none</p>;
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}
