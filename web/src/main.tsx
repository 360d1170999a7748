// Entry point: mounts the app. Everything is bundled by Vite; nothing loads from the internet.
import { render } from 'preact';
import { App } from './App.js';
import './styles.css';

const root = document.getElementById('app');
if (root) render(<App />, root);
