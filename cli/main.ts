// Placeholder replaced by the CLI work below; keeps `npm start` from failing on the skeleton.
console.log('sentinel: CLI under construction');
