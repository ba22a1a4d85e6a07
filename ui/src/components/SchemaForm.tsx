// A form generated from a flow's parameter JSON Schema: text, numbers, booleans, enums, dates, nested objects, and JSON for
// the rest. Validates required fields and numbers before sending; shows the API's field errors next to their fields.
import type { JsonSchema } from '../api/types';

type Values = Record<string, unknown>;

function typeOf(s: JsonSchema): string {
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  if (s.enum) return 'enum';
  if (t === 'string' && (s.format === 'date-time' || s.format === 'date')) return s.format;
  return t ?? 'json';
}

/** Checks values against the schema: field path → message. */
export function validate(schema: JsonSchema, values: Values, prefix = ''): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const path = prefix + name;
    const v = values[name];
    const missing = v === undefined || v === '' || v === null;
    if (missing) {
      if (schema.required?.includes(name) && !(Array.isArray(prop.type) && prop.type.includes('null'))) errors[path] = 'required';
      continue;
    }
    const t = typeOf(prop);
    if ((t === 'integer' || t === 'number') && typeof v !== 'number') errors[path] = t === 'integer' ? 'a whole number' : 'a number';
    else if (t === 'integer' && !Number.isInteger(v)) errors[path] = 'a whole number';
    else if (t === 'object' && prop.properties && typeof v === 'object') Object.assign(errors, validate(prop, v as Values, path + '.'));
    else if (t === 'json' && typeof v === 'string') {
      try {
        JSON.parse(v);
      } catch {
        errors[path] = 'not valid JSON';
      }
    }
  }
  return errors;
}

/** The JSON to send: JSON-typed fields parsed, empty fields left out. */
export function toParameters(schema: JsonSchema, values: Values): Values {
  const out: Values = {};
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const v = values[name];
    if (v === undefined || v === '') continue;
    const t = typeOf(prop);
    if (t === 'json' && typeof v === 'string') out[name] = JSON.parse(v);
    else if (t === 'object' && prop.properties && typeof v === 'object' && v) out[name] = toParameters(prop, v as Values);
    else if (t === 'date-time' && typeof v === 'string') out[name] = new Date(v).toISOString();
    else out[name] = v;
  }
  return out;
}

export function SchemaFields({ schema, values, onChange, errors, prefix = '' }: { schema: JsonSchema; values: Values; onChange: (v: Values) => void; errors: Record<string, string>; prefix?: string }) {
  const entries = Object.entries(schema.properties ?? {});
  if (entries.length === 0) return <p className="muted">This flow takes no parameters.</p>;
  return (
    <>
      {entries.map(([name, prop]) => {
        const path = prefix + name;
        const id = 'f-' + path.replace(/\W/g, '-');
        const t = typeOf(prop);
        const v = values[name];
        const set = (x: unknown) => onChange({ ...values, [name]: x });
        const error = errors[path];
        const required = schema.required?.includes(name);
        const common = { id, name: path, 'aria-invalid': error ? true : undefined, 'aria-describedby': error ? id + '-error' : undefined };
        let input;
        if (t === 'object' && prop.properties) {
          return (
            <fieldset key={path} className="nested">
              <legend>
                {name}
                {required && ' *'}
              </legend>
              {prop.description && <p className="muted small">{prop.description}</p>}
              <SchemaFields schema={prop} values={(v as Values) ?? {}} onChange={set} errors={errors} prefix={path + '.'} />
            </fieldset>
          );
        }
        if (t === 'boolean') input = <input type="checkbox" {...common} checked={v === true} onChange={(e) => set(e.target.checked)} />;
        else if (t === 'enum')
          input = (
            <select {...common} value={v === undefined ? '' : String(v)} onChange={(e) => set(e.target.value === '' ? undefined : prop.enum!.find((x) => String(x) === e.target.value))}>
              <option value="">—</option>
              {prop.enum!.filter((x) => x !== null).map((x) => (
                <option key={String(x)}>{String(x)}</option>
              ))}
            </select>
          );
        else if (t === 'integer' || t === 'number')
          input = <input type="number" step={t === 'integer' ? 1 : 'any'} {...common} value={v === undefined ? '' : String(v)} onChange={(e) => set(e.target.value === '' ? undefined : Number(e.target.value))} />;
        else if (t === 'date') input = <input type="date" {...common} value={(v as string) ?? ''} onChange={(e) => set(e.target.value)} />;
        else if (t === 'date-time') input = <input type="datetime-local" {...common} value={(v as string) ?? ''} onChange={(e) => set(e.target.value)} />;
        else if (t === 'string') input = <input type="text" {...common} value={(v as string) ?? ''} onChange={(e) => set(e.target.value)} />;
        else input = <textarea rows={2} {...common} placeholder="JSON" value={typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v)} onChange={(e) => set(e.target.value)} />;
        return (
          <div className={'field' + (error ? ' invalid' : '')} key={path}>
            <label htmlFor={id}>
              {name}
              {required && ' *'} <span className="muted small">{t}</span>
            </label>
            {input}
            {prop.description && <p className="muted small">{prop.description}</p>}
            {error && (
              <p className="error field-error" id={id + '-error'} role="alert">
                {error}
              </p>
            )}
          </div>
        );
      })}
    </>
  );
}
