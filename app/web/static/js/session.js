// The sign-out button every signed-in page carries.
import { post } from './api.js';

const button = document.getElementById('sign-out');
if (button) {
  button.addEventListener('click', async () => {
    try { await post('/api/auth/logout'); } finally { window.location.assign('/login'); }
  });
}
