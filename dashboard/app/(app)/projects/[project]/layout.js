export { default } from '../../../../views/project-layout.tsx';
