import { post, setCsrfToken, ApiError } from './api.js';

const form = document.getElementById('login-form');
const error = document.getElementById('login-error');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.hidden = true;
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    const me = await post('/api/auth/login', {
      username: form.username.value.trim(), password: form.password.value,
    });
    setCsrfToken(me.csrf_token);
    window.location.assign(form.dataset.next || '/');
  } catch (e) {
    error.textContent = e instanceof ApiError && e.status === 429
      ? 'Too many attempts. Wait a minute and try again.'
      : (e.message || 'Sign-in failed');
    error.hidden = false;
    button.disabled = false;
  }
});
