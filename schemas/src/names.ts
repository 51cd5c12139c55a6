// The display vocabulary of the contract (roles, ports, node ids) without the validators, for the browser bundle.
export { BROADCAST_NUM, nodeIdFromNum, nodeNumFromId, ROLE_NAMES, type RoleName, roleName } from './nodes.js';
export { PORTS, type Port } from './subjects.js';
