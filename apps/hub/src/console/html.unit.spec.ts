import { html } from './html.js';

// Not named `html` here, so that the formatter leaves the templates as written.
const tpl = html;

describe('html templates', () => {
  it('escapes every interpolated value but markup built by html', () => {
    const code = `"><script>alert('x')</script>&`;
    const inner = tpl`<b>${code}</b>`;
    const out = tpl`<input value="${code}">${inner}${[tpl`<i>1</i>`, '<2>']}${undefined}${null}${false}${0}`;
    expect(out.value).toBe(
      '<input value="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">' +
        '<b>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</b><i>1</i>&lt;2&gt;0',
    );
  });
});
