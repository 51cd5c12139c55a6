// @meshtastic/protobufs 2.7.18 names dist/mod.d.ts in its package.json but ships the declarations as
// dist/mod-D6ytgKaP.d.ts. This ambient module points TypeScript at them. (A tsconfig `paths` mapping would also
// redirect tsx at run time, to a file with no JavaScript in it.)
declare module '@meshtastic/protobufs' {
  export * from '@meshtastic/protobufs/dist/mod-D6ytgKaP.js';
}
