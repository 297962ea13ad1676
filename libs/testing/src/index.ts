export { isAlive, labCli, processesOfLab, repoRoot, type LabComponent } from './lab-cli';
export { eventually } from './eventually';
