import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { captureToken } from './lib/token.js';

captureToken();
const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks #app');
export default mount(App, { target });
