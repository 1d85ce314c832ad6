// The console's entry module: loaded by index.html, no inline script (the Content-Security-Policy forbids it).
document.getElementById('app').textContent = 'voiceagent console';
