// Loaded synchronously from <head> (not inline, so a strict Content-Security-Policy can forbid inline scripts):
// applies the remembered theme before the first paint, so there is no flash of the other one.
(function () {
  var t = null;
  try {
    t = localStorage.getItem('theme');
  } catch (e) {}
  if (t !== 'dark' && t !== 'light') {
    t = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }
  document.documentElement.setAttribute('data-theme', t);
})();
