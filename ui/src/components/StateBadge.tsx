export function StateBadge({ state }: { state: string }) {
  return (
    <span className={'badge state-' + state} data-state={state}>
      {state}
    </span>
  );
}
