/** The real serial port factory on serialport's native binding. */
import { stat } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import type { SerialPortFactory, SerialPortLike } from './serial-port.js';

export const nodeSerialPortFactory: SerialPortFactory = {
  create: ({ path, baudRate }): SerialPortLike => new SerialPort({ path, baudRate, autoOpen: false }),
  exists: async (path: string): Promise<boolean> => {
    try {
      await stat(path);
      return true;
    } catch {
      return false;
    }
  },
};
