import { Channel, Config, create, Mesh, ModuleConfig } from '@mmm/meshtastic';
import type { PrivateChannel } from './radio.js';
import { FIRMWARE_VERSION, userOf } from './traffic.js';
import type { MutableNode, World } from './world.js';

type Variant = Mesh.FromRadio['payloadVariant'];

/** Firmware nonces (PhoneAPI.h): only the configuration, or only the node database. */
export const NONCE_ONLY_CONFIG = 69_420;
export const NONCE_ONLY_NODES = 69_421;
const CHANNEL_SLOTS = 8;

/**
 * The answer to `want_config_id`, in the order firmware 2.5+ streams it: my_info, our own node_info, metadata,
 * channels, config, module config, every other node_info, then config_complete_id echoing the nonce.
 */
export function configSequence(
  world: World,
  privateChannel: PrivateChannel,
  nonce: number,
  nowMs: number,
  /** Replaces the generated nodes (replay mode: the senders found in the capture). */
  otherNodes?: readonly Mesh.NodeInfo[],
): Variant[] {
  const now = Math.floor(nowMs / 1000);
  const gw = world.gateway;
  const withConfig = nonce !== NONCE_ONLY_NODES;
  const withNodes = nonce !== NONCE_ONLY_CONFIG;
  const out: Variant[] = [
    {
      case: 'myInfo',
      value: create(Mesh.MyNodeInfoSchema, {
        myNodeNum: gw.num,
        rebootCount: 7,
        minAppVersion: 30_200,
        deviceId: gw.publicKey.slice(0, 16),
        pioEnv: 'sim',
        nodedbCount: world.nodes.length,
      }),
    },
    { case: 'nodeInfo', value: nodeInfo(world, gw, now) },
  ];
  if (withConfig) {
    out.push({
      case: 'metadata',
      value: create(Mesh.DeviceMetadataSchema, {
        firmwareVersion: FIRMWARE_VERSION,
        deviceStateVersion: 24,
        canShutdown: true,
        hasWifi: true,
        hasBluetooth: true,
        role: gw.role,
        positionFlags: 811,
        hwModel: gw.hwModel,
        hasPKC: true,
      }),
    });
    for (const ch of channels(privateChannel)) out.push({ case: 'channel', value: ch });
    for (const cfg of configs(gw)) out.push({ case: 'config', value: cfg });
    for (const mc of moduleConfigs()) out.push({ case: 'moduleConfig', value: mc });
  }
  if (withNodes) {
    const others = otherNodes ?? world.nodes.slice(1).map((node) => nodeInfo(world, node, now));
    for (const info of others) if (info.num !== gw.num) out.push({ case: 'nodeInfo', value: info });
  }
  out.push({ case: 'configCompleteId', value: nonce });
  return out;
}

export function nodeInfo(world: World, node: MutableNode, now: number): Mesh.NodeInfo {
  const gw = world.gateway.num;
  const direct = node.num !== gw ? world.link(node.num, gw) : undefined;
  // The node DB's snr is the last reception's, i.e. the link of the last hop on the node's path.
  const path = node.num === gw ? [gw] : world.pathToGateway(node.num);
  const lastHop = path.length >= 2 ? world.link(path[path.length - 2]!, gw) : undefined;
  return create(Mesh.NodeInfoSchema, {
    num: node.num,
    user: userOf(node),
    position: {
      latitudeI: Math.round(node.lat * 1e7),
      longitudeI: Math.round(node.lon * 1e7),
      altitude: node.altitude,
      time: now - (node.num % 600),
      locationSource: Mesh.Position_LocSource.LOC_INTERNAL,
    },
    snr: (direct ?? lastHop)?.snr ?? 0,
    lastHeard: node.num === gw ? now : now - (node.num % 3600),
    deviceMetrics: {
      batteryLevel: node.batteryLevel,
      voltage: node.voltage,
      channelUtilization: 8.5,
      airUtilTx: 0.75,
      uptimeSeconds: node.uptimeAtStart,
    },
    channel: 0,
    ...(node.num === gw ? {} : { hopsAway: node.hopsAway }),
  });
}

function channels(priv: PrivateChannel): Channel.Channel[] {
  const out: Channel.Channel[] = [];
  for (let index = 0; index < CHANNEL_SLOTS; index++) {
    if (index === 0) {
      // Empty name = the modem preset's name ("LongFast"); PSK 0x01 = the default key.
      out.push(
        create(Channel.ChannelSchema, {
          index,
          role: Channel.Channel_Role.PRIMARY,
          settings: {
            name: '',
            psk: new Uint8Array([1]),
            uplinkEnabled: true,
            moduleSettings: { positionPrecision: 13 },
          },
        }),
      );
    } else if (index === priv.index) {
      out.push(
        create(Channel.ChannelSchema, {
          index,
          role: Channel.Channel_Role.SECONDARY,
          settings: { name: priv.name, psk: priv.key, id: 0x5ec2e7 },
        }),
      );
    } else {
      out.push(create(Channel.ChannelSchema, { index, role: Channel.Channel_Role.DISABLED, settings: {} }));
    }
  }
  return out;
}

function configs(gw: MutableNode): Config.Config[] {
  const c = (payloadVariant: Config.Config['payloadVariant']) => create(Config.ConfigSchema, { payloadVariant });
  return [
    c({
      case: 'device',
      value: create(Config.Config_DeviceConfigSchema, {
        role: gw.role,
        serialEnabled: true,
        nodeInfoBroadcastSecs: 10_800,
        tzdef: 'CET-1CEST,M3.5.0,M10.5.0/3',
      }),
    }),
    c({
      case: 'position',
      value: create(Config.Config_PositionConfigSchema, {
        positionBroadcastSecs: 900,
        positionBroadcastSmartEnabled: true,
        gpsUpdateInterval: 120,
        positionFlags: 811,
      }),
    }),
    c({
      case: 'power',
      value: create(Config.Config_PowerConfigSchema, {
        waitBluetoothSecs: 60,
        sdsSecs: 0xffffffff,
        lsSecs: 300,
        minWakeSecs: 10,
      }),
    }),
    c({
      case: 'network',
      value: create(Config.Config_NetworkConfigSchema, {
        wifiEnabled: true,
        wifiSsid: 'mesh-lab',
        ntpServer: 'meshtastic.pool.ntp.org',
      }),
    }),
    c({ case: 'display', value: create(Config.Config_DisplayConfigSchema, { screenOnSecs: 600 }) }),
    c({
      case: 'lora',
      value: create(Config.Config_LoRaConfigSchema, {
        usePreset: true,
        modemPreset: Config.Config_LoRaConfig_ModemPreset.LONG_FAST,
        region: Config.Config_LoRaConfig_RegionCode.EU_868,
        hopLimit: 3,
        txEnabled: true,
        txPower: 27,
        sx126xRxBoostedGain: true,
        configOkToMqtt: true,
      }),
    }),
    c({
      case: 'bluetooth',
      value: create(Config.Config_BluetoothConfigSchema, {
        enabled: true,
        mode: Config.Config_BluetoothConfig_PairingMode.RANDOM_PIN,
      }),
    }),
    c({
      case: 'security',
      value: create(Config.Config_SecurityConfigSchema, { publicKey: gw.publicKey, serialEnabled: true }),
    }),
  ];
}

function moduleConfigs(): ModuleConfig.ModuleConfig[] {
  const m = (payloadVariant: ModuleConfig.ModuleConfig['payloadVariant']) =>
    create(ModuleConfig.ModuleConfigSchema, { payloadVariant });
  return [
    m({
      case: 'mqtt',
      value: create(ModuleConfig.ModuleConfig_MQTTConfigSchema, {
        address: 'mqtt.meshtastic.org',
        username: 'meshdev',
        encryptionEnabled: true,
        root: 'msh/EU_868',
      }),
    }),
    m({ case: 'serial', value: create(ModuleConfig.ModuleConfig_SerialConfigSchema, {}) }),
    m({ case: 'externalNotification', value: create(ModuleConfig.ModuleConfig_ExternalNotificationConfigSchema, {}) }),
    m({ case: 'storeForward', value: create(ModuleConfig.ModuleConfig_StoreForwardConfigSchema, { heartbeat: true }) }),
    m({
      case: 'rangeTest',
      value: create(ModuleConfig.ModuleConfig_RangeTestConfigSchema, { enabled: true, sender: 0 }),
    }),
    m({
      case: 'telemetry',
      value: create(ModuleConfig.ModuleConfig_TelemetryConfigSchema, {
        deviceUpdateInterval: 1800,
        environmentMeasurementEnabled: true,
        environmentUpdateInterval: 1800,
      }),
    }),
    m({ case: 'cannedMessage', value: create(ModuleConfig.ModuleConfig_CannedMessageConfigSchema, {}) }),
    m({ case: 'audio', value: create(ModuleConfig.ModuleConfig_AudioConfigSchema, {}) }),
    m({ case: 'remoteHardware', value: create(ModuleConfig.ModuleConfig_RemoteHardwareConfigSchema, {}) }),
    m({
      case: 'neighborInfo',
      value: create(ModuleConfig.ModuleConfig_NeighborInfoConfigSchema, {
        enabled: true,
        updateInterval: 14_400,
        transmitOverLora: true,
      }),
    }),
    m({
      case: 'ambientLighting',
      value: create(ModuleConfig.ModuleConfig_AmbientLightingConfigSchema, { current: 10 }),
    }),
    m({ case: 'detectionSensor', value: create(ModuleConfig.ModuleConfig_DetectionSensorConfigSchema, {}) }),
    m({
      case: 'paxcounter',
      value: create(ModuleConfig.ModuleConfig_PaxcounterConfigSchema, { enabled: true, paxcounterUpdateInterval: 900 }),
    }),
  ];
}
