export { default } from '../../views/app-shell.tsx';
