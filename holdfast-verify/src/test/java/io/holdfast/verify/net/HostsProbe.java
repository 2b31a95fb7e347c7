package io.holdfast.verify.net;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * Run in a child JVM by NetworkTest: for each argument {@code name} prints {@code RESOLVED name ip}
 * or {@code UNKNOWN name}; an argument {@code connect:host:port} sends "ping" there and prints
 * {@code REPLY line}; {@code localhost-name} prints {@code LOCALHOST ok|fail}.
 */
public final class HostsProbe {
    private HostsProbe() {}

    public static void main(String[] args) throws Exception {
        for (String a : args) {
            if (a.equals("localhost-name")) {
                try {
                    InetAddress.getLocalHost();
                    System.out.println("LOCALHOST ok");
                } catch (UnknownHostException e) {
                    System.out.println("LOCALHOST fail " + e.getMessage());
                }
            } else if (a.startsWith("connect:")) {
                String[] hp = a.split(":");
                try (Socket s = new Socket(hp[1], Integer.parseInt(hp[2]))) {
                    s.setSoTimeout(5_000);
                    PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.US_ASCII);
                    BufferedReader in =
                            new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                    out.println("ping");
                    System.out.println("REPLY " + in.readLine());
                }
            } else {
                try {
                    System.out.println(
                            "RESOLVED " + a + " " + InetAddress.getByName(a).getHostAddress());
                } catch (UnknownHostException e) {
                    System.out.println("UNKNOWN " + a);
                }
            }
        }
    }
}
