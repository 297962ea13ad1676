export { isAlive, labCli, processesOfLab, repoRoot, type LabComponent } from './lab-cli';
export { eventually } from './eventually';
export {
  allows,
  allowsDns,
  connectionAllowed,
  matchLabels,
  podsOf,
  policiesOf,
  type K8sObject,
  type NetworkPolicy,
  type PolicyPod,
} from './network-policy';
