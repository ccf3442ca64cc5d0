// Preloaded by `npm test` (node --import): vitest 5 targets Node >= 22 and its reporter calls
// Map.groupBy, which Node 20 lacks; without this, a failing test crashes the reporter before it
// prints the failure or writes the JSON report. Remove once the project requires Node 22.
if (typeof Map.groupBy !== 'function') {
  Object.defineProperty(Map, 'groupBy', {
    configurable: true,
    writable: true,
    value(items, keyOf) {
      const groups = new Map();
      let index = 0;
      for (const item of items) {
        const key = keyOf(item, index++);
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(item);
      }
      return groups;
    },
  });
}
if (typeof Object.groupBy !== 'function') {
  Object.defineProperty(Object, 'groupBy', {
    configurable: true,
    writable: true,
    value(items, keyOf) {
      const groups = Object.create(null);
      for (const [key, members] of Map.groupBy(items, keyOf)) groups[key] = members;
      return groups;
    },
  });
}
