/**
 * Shell-style glob matching for guest names (`--match 'web-*'`): `*` any run of characters, `?` one
 * character, `[abc]`/`[a-z]`/`[!a]` a class; everything else literal.
 *
 * @example
 * globToRegExp('web-*').test('web-1') // true
 */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) { out += '\\['; continue; }
      let body = glob.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 'su');
}
